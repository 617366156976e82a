import { Controller, Get } from '@nestjs/common';
import { GatewayConfig } from '../config.js';
import { PLEXUS_VERSION } from '../version.js';

/** `GET /api/config`: what a device or the dashboard needs to know to connect. No credential. */
@Controller('api/config')
export class PlatformConfigController {
  constructor(private readonly config: GatewayConfig) {}

  @Get()
  get(): { ws_url: string; version: string; endpoint: string } {
    return { ws_url: this.config.publicWsUrl, version: PLEXUS_VERSION, endpoint: this.config.publicUrl };
  }
}

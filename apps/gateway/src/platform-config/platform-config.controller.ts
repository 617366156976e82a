import { Controller, Get } from '@nestjs/common';
import { config } from '../config.js';
import { PLEXUS_VERSION } from '../version.js';

/** `GET /api/config`: what a device or the dashboard needs to know to connect. No credential. */
@Controller('api/config')
export class PlatformConfigController {
  @Get()
  get(): { ws_url: string; version: string; endpoint: string } {
    return { ws_url: config.publicWsUrl, version: PLEXUS_VERSION, endpoint: config.publicUrl };
  }
}

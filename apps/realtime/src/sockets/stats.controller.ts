import { Controller, Get } from '@nestjs/common';
import { SocketServer } from './socket-server.service.js';

/** `GET /stats`: sockets held by this instance and live telemetry dropped for slow browsers. */
@Controller('stats')
export class StatsController {
  constructor(private readonly server: SocketServer) {}

  @Get()
  async stats() {
    return { ...(await this.server.stats()), memory_rss_bytes: process.memoryUsage().rss };
  }
}

import { createReadStream, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Header, Req, StreamableFile } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '#common';
import { GatewayConfig } from '../config.js';
import { setupScript } from './setup-script.js';

/** dist/agent/, where `npm run build` packs apps/agent. */
const AGENT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'agent');

@Controller()
export class SetupController {
  constructor(private readonly config: GatewayConfig) {}

  /** The endpoint baked into the script: PUBLIC_URL when set, else the address the device reached. */
  @Get('setup')
  @Header('content-type', 'text/x-shellscript; charset=utf-8')
  script(@Req() request: FastifyRequest): string {
    const endpoint = this.config.publicUrlConfigured
      ? this.config.publicUrl
      : `${request.protocol}://${request.headers.host ?? new URL(this.config.publicUrl).host}`;
    return setupScript(endpoint);
  }

  @Get('agent/plexus-agent.tgz')
  agent(): StreamableFile {
    const tarball = readdirSync(AGENT_DIR, { withFileTypes: true }).find((entry) => /^plexus-agent-.*\.tgz$/.test(entry.name));
    if (!tarball) throw new DomainError('NOT_FOUND', 'the agent package was not built: run npm run build');
    return new StreamableFile(createReadStream(join(AGENT_DIR, tarball.name)), {
      type: 'application/gzip',
      disposition: 'attachment; filename="plexus-agent.tgz"',
    });
  }
}

import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { LineProtocolController } from './line-protocol.controller.js';
import { LineProtocolWriter } from './line-protocol-writer.service.js';

@Module({ imports: [IngestModule], controllers: [LineProtocolController], providers: [LineProtocolWriter] })
export class LineProtocolModule {}

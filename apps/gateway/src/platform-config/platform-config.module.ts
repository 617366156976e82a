import { Module } from '@nestjs/common';
import { PlatformConfigController } from './platform-config.controller.js';

@Module({ controllers: [PlatformConfigController] })
export class PlatformConfigModule {}

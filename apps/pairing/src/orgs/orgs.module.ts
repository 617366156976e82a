import { Module } from '@nestjs/common';
import { BootstrapService } from './bootstrap.service.js';
import { OrgsController } from './orgs.controller.js';
import { OrgsService } from './orgs.service.js';

@Module({ controllers: [OrgsController], providers: [BootstrapService, OrgsService] })
export class OrgsModule {}

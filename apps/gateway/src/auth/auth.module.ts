import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './api-key.guard.js';
import { AuthController } from './auth.controller.js';
import { KeyVerifier } from './key-verifier.service.js';

@Module({
  controllers: [AuthController],
  providers: [KeyVerifier, { provide: APP_GUARD, useClass: ApiKeyGuard }],
  exports: [KeyVerifier],
})
export class AuthModule {}

import { IsIn, IsISO8601, IsObject, IsOptional, IsString, Length } from 'class-validator';
import { SESSION_STATUSES, type SessionStatus } from '#common';

export class UpdateSessionDto {
  @IsOptional()
  @IsIn(SESSION_STATUSES)
  status?: SessionStatus;

  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'ended_at must be an ISO-8601 time' })
  ended_at?: string;

  @IsOptional()
  @IsString()
  @Length(1, 256)
  name?: string;

  @IsOptional()
  @IsObject()
  tags?: Record<string, unknown>;
}

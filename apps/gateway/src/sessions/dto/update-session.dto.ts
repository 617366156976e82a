import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { IsBoundedJsonObject, IsOmittable, SESSION_JSON_BOUNDS, SESSION_STATUSES, type SessionStatus } from '#common';

export class UpdateSessionDto {
  @IsOptional()
  @IsIn(SESSION_STATUSES)
  status?: SessionStatus;

  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'ended_at must be an ISO-8601 time' })
  ended_at?: string;

  /** Omittable, not nullable: a session always has a name and tags (null would reach the database). */
  @IsOmittable()
  @IsString()
  @Length(1, 256)
  name?: string;

  @IsOmittable()
  @IsBoundedJsonObject(SESSION_JSON_BOUNDS)
  tags?: Record<string, unknown>;
}

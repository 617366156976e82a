import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { IsBoundedJsonObject, SESSION_JSON_BOUNDS, SOURCE_ID_PATTERN } from '#common';

export const SESSION_ID_PATTERN = /^[^\u0000-\u001F\u007F/]{1,128}$/;

export class CreateSessionDto {
  @IsOptional()
  @Matches(SESSION_ID_PATTERN, { message: 'session_id must be 1 to 128 printable characters without "/"' })
  session_id?: string;

  @IsOptional()
  @IsString()
  @Length(1, 256)
  name?: string;

  @Matches(new RegExp(SOURCE_ID_PATTERN), {
    message: 'source_id must start with a letter or digit and hold up to 128 letters, digits, ".", "_", ":" or "-"',
  })
  source_id: string;

  @IsOptional()
  @IsIn(['active', 'started', 'ended'])
  status?: 'active' | 'started' | 'ended';

  /** null means absent here: the session gets `{}` (the agent may send null). */
  @IsOptional()
  @IsBoundedJsonObject(SESSION_JSON_BOUNDS)
  tags?: Record<string, unknown>;

  @IsOptional()
  @IsBoundedJsonObject(SESSION_JSON_BOUNDS)
  metadata?: Record<string, unknown>;
}

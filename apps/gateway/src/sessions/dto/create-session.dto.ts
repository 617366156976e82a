import { IsIn, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
import { SOURCE_ID_PATTERN } from '#common';

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

  @IsOptional()
  @IsObject()
  tags?: Record<string, unknown>;

  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown>;
}

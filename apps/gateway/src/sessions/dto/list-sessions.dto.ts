import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { PageLimitDto } from '../../common/page-limit.dto.js';
import { EXPORT_FORMATS, type ExportFormat, SESSION_STATUSES, SOURCE_ID_PATTERN, type SessionStatus } from '#common';

export class ListSessionsDto extends PageLimitDto {
  @IsOptional()
  @Matches(new RegExp(SOURCE_ID_PATTERN), { message: 'source_id is not a valid source id' })
  source_id?: string;

  @IsOptional()
  @IsIn(SESSION_STATUSES)
  status?: SessionStatus;

  @IsOptional()
  @IsString()
  cursor?: string;
}

export class ExportSessionDto {
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: 'format must be csv or ndjson' })
  format?: ExportFormat;
}

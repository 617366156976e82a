import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { AGGREGATES, type Aggregate, SOURCE_ID_PATTERN } from '#common';

export const MAX_QUERY_LIMIT = 100_000;

/** Printable text: no control characters (NUL among them), no lone surrogates — PostgreSQL text holds neither. */
const PRINTABLE = /^(?:[^\u0000-\u001f\u007f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;

export class QueryPointsDto {
  @Matches(new RegExp(SOURCE_ID_PATTERN), { message: 'source_id is required and must be a valid source id' })
  source_id: string;

  @IsString({ message: 'metric is required' })
  @Length(1, 256)
  @Matches(PRINTABLE, { message: 'metric must be printable text (no NUL or control characters)' })
  metric: string;

  @IsOptional()
  @IsString()
  @Length(0, 64)
  from?: string;

  @IsOptional()
  @IsString()
  @Length(0, 64)
  to?: string;

  @IsOptional()
  @Matches(/^\d{1,20}(ms|s|m|h|d|w)$/, { message: 'bucket must be a width like 500ms, 1s, 5m, 1h or 1d' })
  bucket?: string;

  @IsOptional()
  @IsIn(AGGREGATES, { message: `agg must be one of ${AGGREGATES.join(', ')}` })
  agg?: Aggregate;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_QUERY_LIMIT)
  limit?: number;
}

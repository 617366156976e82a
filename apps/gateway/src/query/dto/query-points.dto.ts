import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { AGGREGATES, type Aggregate, SOURCE_ID_PATTERN } from '#common';

export const MAX_QUERY_LIMIT = 100_000;

export class QueryPointsDto {
  @Matches(new RegExp(SOURCE_ID_PATTERN), { message: 'source_id is required and must be a valid source id' })
  source_id: string;

  @IsString({ message: 'metric is required' })
  @Length(1, 256)
  metric: string;

  @IsOptional()
  @IsString()
  from?: string;

  @IsOptional()
  @IsString()
  to?: string;

  @IsOptional()
  @Matches(/^\d+(ms|s|m|h|d|w)$/, { message: 'bucket must be a width like 500ms, 1s, 5m, 1h or 1d' })
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

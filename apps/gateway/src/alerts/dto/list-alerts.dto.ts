import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ALERT_LIST_STATES, type AlertListState, SOURCE_ID_PATTERN } from '#common';
import { PageLimitDto } from '../../common/page-limit.dto.js';

export class ListAlertsDto extends PageLimitDto {
  @IsOptional()
  @IsIn(ALERT_LIST_STATES, { message: 'state must be firing, resolved or all' })
  state?: AlertListState;

  @IsOptional()
  @IsString()
  @Length(1, 128)
  rule_id?: string;

  @IsOptional()
  @Matches(new RegExp(SOURCE_ID_PATTERN), { message: 'source_id is not a valid source id' })
  source_id?: string;

  @IsOptional()
  @IsString()
  @Length(1, 512)
  cursor?: string;
}

import { IsOptional, IsString, Length } from 'class-validator';
import { MAX_PAGE_CURSOR_LENGTH } from '#common';
import { PageLimitDto } from '../../common/page-limit.dto.js';

/** `?limit=&cursor=` of the audit listing; the cursor itself is checked by the pairing app, which wrote it. */
export class ListCommandAuditDto extends PageLimitDto {
  @IsOptional()
  @IsString()
  @Length(1, MAX_PAGE_CURSOR_LENGTH, { message: `cursor must be 1 to ${MAX_PAGE_CURSOR_LENGTH} characters: the next_cursor of a page` })
  cursor?: string;
}

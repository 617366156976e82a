import { ArrayNotEmpty, IsArray, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { type Scope, SCOPES } from '#common';

export class CreateKeyDto {
  @IsString({ message: 'name is required' })
  @Length(1, 128)
  name: string;

  @IsArray()
  @ArrayNotEmpty({ message: 'scopes must name at least one scope' })
  @IsIn(SCOPES, { each: true, message: `scopes must each be one of ${SCOPES.join(', ')}` })
  scopes: Scope[];

  /** Optional, and only ever the caller's own org. */
  @IsOptional()
  @IsString()
  org_id?: string;
}

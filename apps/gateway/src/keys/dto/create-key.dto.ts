import { ArrayNotEmpty, IsArray, IsIn, IsOptional, IsString } from 'class-validator';
import { IsKeyName, type Scope, SCOPES } from '#common';

export class CreateKeyDto {
  /** The rule pairing applies too (libs/common/src/validation/key-name.ts). */
  @IsKeyName()
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

import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { SOURCE_ID_PATTERN } from '#common';

export class CreatePairingCodeDto {
  @IsOptional()
  @IsString()
  @Length(1, 256)
  name?: string;

  /** Re-pairs this existing source: the code pairs it and nothing else, and its old token is revoked when the code is used. */
  @IsOptional()
  @IsString()
  @Matches(new RegExp(SOURCE_ID_PATTERN), {
    message: 'source_id must start with a letter or digit and hold up to 128 letters, digits, ".", "_", ":" or "-"',
  })
  source_id?: string;
}

export class PairingCodeQueryDto {
  @IsString({ message: 'code is required' })
  @Length(1, 16)
  code: string;
}

/** Exactly what the Python agent 0.3.x sends is `{ "code": "ABC123" }`; the rest is optional. */
export class CompletePairingDto {
  @IsString({ message: 'code is required' })
  @Length(1, 16)
  code: string;

  @IsOptional()
  @IsString()
  source_id?: string;

  @IsOptional()
  @IsString()
  name?: string;

  @IsOptional()
  @IsString()
  platform?: string;
}

export class VerifyDeviceDto {
  @IsString({ message: 'device_token is required' })
  @Length(1, 256)
  device_token: string;
}

import { IsOptional, IsString, Length } from 'class-validator';

export class CreatePairingCodeDto {
  @IsOptional()
  @IsString()
  @Length(1, 256)
  name?: string;
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

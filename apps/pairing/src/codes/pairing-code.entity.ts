import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A pairing code as stored: its HMAC-SHA256 under the pairing secret (of the upper-cased code) only. */
@Entity('pairing_codes')
export class PairingCodeEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text', { name: 'org_id' })
  orgId: string;

  @Column('text', { name: 'code_hash' })
  codeHash: string;

  @Column('text', { nullable: true })
  name: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;

  @Column('timestamptz', { name: 'used_at', nullable: true })
  usedAt: Date | null;

  /** The source this code paired, once used. */
  @Column('text', { name: 'source_id', nullable: true })
  sourceId: string | null;

  /** Set for a code an admin made to re-pair this existing source; such a code pairs nothing else. */
  @Column('text', { name: 'for_source_id', nullable: true })
  forSourceId: string | null;
}

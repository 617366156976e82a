import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { OrgEntity } from '../orgs/org.entity.js';

/** An API key as stored: its SHA-256 and a display prefix, never the key. */
@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text', { name: 'org_id' })
  orgId: string;

  /** Loaded only where asked for (key verification, for the org's name). */
  @ManyToOne(() => OrgEntity)
  @JoinColumn({ name: 'org_id' })
  org?: OrgEntity;

  @Column('text')
  name: string;

  @Column('text', { name: 'key_hash' })
  keyHash: string;

  @Column('text')
  prefix: string;

  @Column('text', { array: true })
  scopes: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;
}

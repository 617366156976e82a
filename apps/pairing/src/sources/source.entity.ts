import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { SensorDescription } from '#common';

@Entity('sources')
export class SourceEntity {
  @PrimaryColumn('text', { name: 'org_id' })
  orgId: string;

  @PrimaryColumn('text')
  id: string;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  platform: string | null;

  @Column('jsonb')
  sensors: SensorDescription[];

  @Column('jsonb')
  cameras: unknown[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { name: 'last_seen_at', nullable: true })
  lastSeenAt: Date | null;
}

import type { CreatedKey } from './sources.js';

/** Org ids appear in URLs, subjects and rows: short, lower-case, no separators but `_` and `-`. */
export const ORG_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';

export interface OrgView {
  id: string;
  name: string;
  created_at: string;
  /** Set once the org is disabled: its keys and device tokens are refused everywhere. */
  disabled_at: string | null;
}

/** `SUBJECTS.orgs.create` */
export interface CreateOrgRequest {
  id: string;
  name?: string;
}
/** The org and its first admin key, shown once. */
export interface CreatedOrg extends OrgView {
  admin_key: CreatedKey;
}

/** `SUBJECTS.orgs.list`: the first page without `cursor`, the next with the `next_cursor` of the last. */
export interface ListOrgsRequest {
  cursor?: string;
}
/** Oldest first; `next_cursor` is null on the last page. */
export interface ListOrgsPage {
  orgs: OrgView[];
  next_cursor: string | null;
}

/** `SUBJECTS.orgs.disable` */
export interface DisableOrgRequest {
  id: string;
}

/** `SUBJECTS.orgs.disabled` event. */
export interface OrgDisabledEvent {
  org_id: string;
}

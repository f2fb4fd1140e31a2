/**
 * Status pages (issue 13): a public page, at `/status/:slug`, showing the state and daily
 * uptime of some of an owner's jobs in named groups. The record is the store's
 * (`lib/store/status_pages.ts`); what the public sees is built from it in `status_board.ts`.
 */

export interface StatusPageGroup {
  name: string;
  jobIds: string[];
}

export interface StatusPage {
  /** `sp_` and 32 hex digits. */
  id: string;
  userId: string;
  /** Globally unique, lowercase letters, digits and hyphens: the page's public address. */
  slug: string;
  title: string;
  description: string | null;
  groups: StatusPageGroup[];
  createdAt: string;
  updatedAt: string;
}

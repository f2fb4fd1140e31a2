/** Addresses of admin pages, shared by the links in the markup and the routes' redirects. */

export function jobPath(id: string): string {
  return `/admin/jobs/${encodeURIComponent(id)}`;
}

export function hookPath(id: string): string {
  return `/admin/hooks/${encodeURIComponent(id)}`;
}

export function channelPath(id: string): string {
  return `/admin/channels/${encodeURIComponent(id)}`;
}

export function maintenancePath(id: string): string {
  return `/admin/maintenance/${encodeURIComponent(id)}`;
}

export function incidentPath(id: string): string {
  return `/admin/incidents/${encodeURIComponent(id)}`;
}

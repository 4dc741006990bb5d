// The one way the UI talks to the API: same-origin fetch with the session cookie, the
// `X-Requested-With` header the API's CSRF rule requires on cookie-authenticated unsafe
// requests, and problem+json errors turned into an `ApiError` whose field errors the forms
// show beside their fields.

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  readonly errors: FieldError[];

  constructor(status: number, body: Record<string, unknown> | null) {
    const title = typeof body?.title === 'string' ? body.title : `Request failed (${status})`;
    const detail = typeof body?.detail === 'string' ? body.detail : undefined;
    super(detail ?? title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = Array.isArray(body?.errors) ? (body.errors as FieldError[]) : [];
  }

  /** The first message for `field` or any of its members (`tags[0]` belongs to `tags`). */
  fieldMessage(field: string): string | undefined {
    const hit = this.errors.find(
      (e) => e.field === field || e.field.startsWith(`${field}[`) || e.field.startsWith(`${field}.`) || e.field.startsWith(`${field}/`),
    );
    return hit?.message;
  }

  /** Errors that belong to none of `fields`: shown at the top of the form. */
  otherMessages(fields: string[]): string[] {
    const rest = this.errors.filter(
      (e) =>
        !fields.some((f) => e.field === f || e.field.startsWith(`${f}[`) || e.field.startsWith(`${f}.`) || e.field.startsWith(`${f}/`)),
    );
    if (this.errors.length === 0) return [this.message];
    return rest.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Called when any request comes back 401, so the app can return to the login screen. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T>(method: Method, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: {
      Accept: 'application/json, application/problem+json',
      'X-Requested-With': 'XMLHttpRequest',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { title: 'The server could not be reached. Check your connection and try again.' });
  }
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/api/auth/login')) onUnauthorized();
    throw new ApiError(response.status, (parsed as Record<string, unknown>) ?? null);
  }
  return parsed as T;
}

/** A query string from the defined entries (arrays repeat the key). */
export function query(params: Record<string, string | number | boolean | string[] | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(key, v));
    else search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

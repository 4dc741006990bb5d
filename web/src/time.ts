// Dates and times in the user's own IANA time zone with nothing but Intl: the API speaks UTC
// (RFC 3339), the forms speak "wall clock in my zone".

/** The zone's offset from UTC in minutes at `instant` (positive east of Greenwich). */
function offsetMinutes(timeZone: string, instant: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
}

/** `YYYY-MM-DDTHH:mm` (a datetime-local value) read as wall-clock time in `timeZone`, as a UTC ISO string. */
export function zonedToUtc(local: string, timeZone: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!match) throw new RangeError(`not a local date and time: ${local}`);
  const [, y, mo, d, h, mi, s] = match;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  // Two passes settle the offset on either side of a DST change.
  let guess = wall - offsetMinutes(timeZone, new Date(wall)) * 60000;
  guess = wall - offsetMinutes(timeZone, new Date(guess)) * 60000;
  return new Date(guess).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A UTC instant as a datetime-local value in `timeZone` (to the minute, or the second). */
export function utcToZoned(iso: string, timeZone: string, seconds = false): string {
  const instant = new Date(iso);
  const shifted = new Date(instant.getTime() + offsetMinutes(timeZone, instant) * 60000);
  return shifted.toISOString().slice(0, seconds ? 19 : 16);
}

/** A short, readable date and time in `timeZone`, e.g. "Tue 3 Mar, 09:00". */
export function formatInstant(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: new Date(iso).getFullYear() === new Date().getFullYear() ? undefined : 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso));
}

/** The browser's zone, the default for a new account. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Every zone the browser knows, for the settings picker. */
export function allTimeZones(): string[] {
  const supported = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
  const zones = supported ? supported('timeZone') : [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}

/** Today's date in `timeZone` as YYYY-MM-DD. */
export function todayIn(timeZone: string): string {
  return utcToZoned(new Date().toISOString(), timeZone).slice(0, 10);
}

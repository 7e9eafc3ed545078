/**
 * Epoch ms of the start of the calendar day that `at` falls in, in the IANA time zone `timeZone`
 * (the county's, Asia/Shanghai for the demo): "alarms today" means today on the wall clock there.
 */
export function startOfDay(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const sinceMidnightMs = ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 + (at % 1000);
  return at - sinceMidnightMs;
}

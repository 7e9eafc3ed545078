import { CameraError, CameraFault } from './camera-error.js';

/** The stream URI with the camera's credentials in it (RTSP Basic/Digest auth reads them there). */
export function withCredentials(uri: string, username: string, password: string): string {
  const u = new URL(uri);
  if (!u.username) {
    u.username = encodeURIComponent(username);
    u.password = encodeURIComponent(password);
  }
  return u.toString();
}

/** ffmpeg's messages name the URL, credentials included: cut them out before anything is logged. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(/(rtsps?|https?):\/\/[^\s/@]+@/gi, '$1://');
  for (const s of secrets) {
    if (s.length >= 3) out = out.split(s).join('***').split(encodeURIComponent(s)).join('***');
  }
  return out;
}

/** The last meaningful line of ffmpeg's stderr, for an error message. */
export function lastError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return (lines[lines.length - 1] ?? 'no output').slice(0, 300);
}

/** Sorts a failed ffmpeg/ffprobe run on an RTSP stream into the adapter's faults. */
export function classifyStreamFailure(
  stderr: string,
  run: { timedOut: boolean; elapsedMs: number },
  limitMs: number,
): CameraError {
  if (/401 Unauthorized|authorization failed/i.test(stderr)) {
    return new CameraError(CameraFault.AUTH, `RTSP refused the credentials: ${lastError(stderr)}`);
  }
  const refused = /Connection refused|\b40[34]\b|\b50[03]\b|Not Found|Service Unavailable/i.test(stderr);
  // A server that accepts and then says nothing ends ffmpeg's RTSP read with its socket timeout
  // ("Invalid data found…"): what tells it apart is that the time limit was used up.
  if (run.timedOut || /timed out/i.test(stderr) || (!refused && run.elapsedMs >= limitMs * 0.9)) {
    return new CameraError(CameraFault.STREAM_TIMEOUT, `the stream did not start within ${limitMs} ms`);
  }
  return new CameraError(CameraFault.STREAM_DOWN, `the stream is down: ${lastError(stderr)}`);
}

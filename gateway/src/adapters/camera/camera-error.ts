/**
 * What went wrong talking to a camera, as a code (the telemetry's `fault` and the logs) and a
 * message for people. Messages never carry credentials: URLs are shown without their userinfo.
 */
export const CameraFault = {
  /** The camera refused the credentials (ONVIF `ter:NotAuthorized`, HTTP 401). */
  AUTH: 'auth',
  /** No answer at the ONVIF address: refused, unreachable, timed out. */
  UNREACHABLE: 'unreachable',
  /** The camera answered with something that is not the ONVIF answer asked for. */
  BAD_RESPONSE: 'bad_response',
  /** RTSP answered and refused the stream (404, 503, no video track). */
  STREAM_DOWN: 'stream_down',
  /** The stream did not deliver video within the time limit. */
  STREAM_TIMEOUT: 'stream_timeout',
} as const;
export type CameraFault = (typeof CameraFault)[keyof typeof CameraFault];

const CODES: Record<CameraFault, string> = {
  auth: 'ANL_CAM_AUTH',
  unreachable: 'ANL_CAM_UNREACHABLE',
  bad_response: 'ANL_CAM_BAD_RESPONSE',
  stream_down: 'ANL_CAM_STREAM_DOWN',
  stream_timeout: 'ANL_CAM_STREAM_TIMEOUT',
};

export class CameraError extends Error {
  override readonly name = 'CameraError';
  readonly code: string;

  constructor(
    readonly fault: CameraFault,
    message: string,
  ) {
    super(message);
    this.code = CODES[fault];
  }
}

/** A URL as it may be logged: without user and password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    // Not a URL we can parse: nothing of it is logged, since it might hold a secret.
    return '(unparseable URL)';
  }
}

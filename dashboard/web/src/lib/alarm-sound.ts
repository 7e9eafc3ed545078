import { ref, watch } from 'vue';

const VOLUME_KEY = 'anlian.alarmVolume';
const MUTED_KEY = 'anlian.alarmMuted';

function savedVolume(): number {
  const raw = typeof localStorage !== 'undefined' ? localStorage.getItem(VOLUME_KEY) : null;
  const v = raw === null ? Number.NaN : Number(raw);
  return Number.isFinite(v) && v >= 0 && v <= 1 ? v : 0.5;
}

/**
 * The alarm's volume (0–1) and mute, kept per browser (localStorage) so that a wall PC restarted
 * overnight comes back as its operators left it. Muting never hides an alarm: the banner, the
 * map and the list still flash, and the banner says the sound is off.
 */
export const alarmVolume = ref(savedVolume());
export const alarmMuted = ref(typeof localStorage !== 'undefined' && localStorage.getItem(MUTED_KEY) === 'true');
watch(alarmVolume, (v) => localStorage.setItem(VOLUME_KEY, String(v)));
watch(alarmMuted, (m) => localStorage.setItem(MUTED_KEY, String(m)));

/** Loudest square-wave gain: full volume; the default (0.5) is the level the wall had before. */
const MAX_GAIN = 0.16;

/**
 * A two-tone alarm (as fire panels sound) through WebAudio, looping while `play` is on, at the
 * saved volume unless muted. Browsers allow sound only after a user gesture, or in kiosk mode with
 * `--autoplay-policy=no-user-gesture-required`; `blocked` says when a click is needed first.
 */
export class AlarmSound {
  #ctx: AudioContext | undefined;
  #timer: number | undefined;
  get blocked(): boolean {
    return this.#context().state !== 'running';
  }

  get playing(): boolean {
    return this.#timer !== undefined;
  }

  unlock(): void {
    void this.#context().resume();
  }

  play(): void {
    if (this.#timer !== undefined) return;
    const beep = () => {
      if (alarmMuted.value || alarmVolume.value <= 0) return;
      const ctx = this.#context();
      if (ctx.state !== 'running') return;
      for (const [i, f] of [960, 770].entries()) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'square';
        osc.frequency.value = f;
        gain.gain.value = MAX_GAIN * alarmVolume.value;
        osc.connect(gain).connect(ctx.destination);
        const at = ctx.currentTime + i * 0.45;
        osc.start(at);
        osc.stop(at + 0.4);
      }
    };
    beep();
    this.#timer = window.setInterval(beep, 1000);
  }

  stop(): void {
    if (this.#timer !== undefined) window.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #context(): AudioContext {
    this.#ctx ??= new AudioContext();
    return this.#ctx;
  }
}

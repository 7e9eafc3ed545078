/**
 * A two-tone alarm (as fire panels sound) through WebAudio, looping while `play` is on. Browsers
 * allow sound only after a user gesture, or in kiosk mode with
 * `--autoplay-policy=no-user-gesture-required`; `blocked` says when a click is needed first.
 */
export class AlarmSound {
  #ctx: AudioContext | undefined;
  #timer: number | undefined;

  get blocked(): boolean {
    return this.#context().state !== 'running';
  }

  unlock(): void {
    void this.#context().resume();
  }

  play(): void {
    if (this.#timer !== undefined) return;
    const beep = () => {
      const ctx = this.#context();
      if (ctx.state !== 'running') return;
      for (const [i, f] of [960, 770].entries()) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'square';
        osc.frequency.value = f;
        gain.gain.value = 0.08;
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

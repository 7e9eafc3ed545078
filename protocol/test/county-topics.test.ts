import { describe, expect, it } from 'vitest';
import { countyTopics, parseCountyTopic } from '../src/county-topics.js';
import { MediaStoredMessage } from '../src/media-stored.js';

describe('county topics', () => {
  it('builds and parses the alert, alerting-config and media topics; refuses what is not one', () => {
    expect(countyTopics.mediaStored('youyang', 'yy-a')).toBe('anlian-county/v1/youyang/media/yy-a');
    expect(parseCountyTopic('anlian-county/v1/youyang/media/yy-a')).toEqual({
      type: 'media-stored',
      county: 'youyang',
      institution: 'yy-a',
    });
    expect(parseCountyTopic(countyTopics.alertChange('youyang', 'yy-a'))).toEqual({
      type: 'alert-change',
      county: 'youyang',
      institution: 'yy-a',
    });
    expect(parseCountyTopic(countyTopics.alertingConfig('youyang'))).toEqual({
      type: 'alerting-config',
      county: 'youyang',
    });
    expect(countyTopics.allMediaStored()).toBe('anlian-county/v1/+/media/+');
    for (const t of [
      'anlian-county/v1/youyang/media',
      'anlian-county/v1/youyang/media/yy-a/extra',
      'anlian-county/v1/youyang/media/+',
      'anlian/v1/youyang/media/yy-a',
    ]) {
      expect(parseCountyTopic(t), t).toBeNull();
    }
    expect(() => countyTopics.mediaStored('youyang', 'yy/a')).toThrow(TypeError);
  });

  it('a stored picture is announced by its record, never with the picture', () => {
    const record = {
      v: 1,
      key: 'yy-a/20261203/0123456789abcdef0123456789abcdef.jpg',
      county: 'youyang',
      institution: 'yy-a',
      gateway: 'gw-yy-a-1',
      device: 'cam-1',
      contentType: 'image/jpeg',
      bytes: 41_000,
      cause: { device: 'smk-1', ts: 1_764_727_200_000 },
      shot: 0,
      ts: 1_764_727_200_300,
      receivedAt: 1_764_727_200_900,
    };
    expect(MediaStoredMessage.parse(record)).toEqual(record);
    expect(MediaStoredMessage.safeParse({ ...record, data: '/9j/4AAQ' }).success).toBe(false);
    expect(MediaStoredMessage.safeParse({ ...record, key: '../../etc/passwd' }).success).toBe(false);
  });
});

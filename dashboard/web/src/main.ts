import { createApp } from 'vue';
import App from './App.vue';
import './styles.css';

createApp(App).mount('#app');

// The manager's view is an installable PWA; the worker caches only the app shell.
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('/sw.js').catch(() => {
    // Without a worker the app still works online; nothing to do.
  });
}

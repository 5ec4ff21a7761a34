import Alpine from '@alpinejs/csp';

/** The "room is ready" panel: copy the invite link. */
Alpine.data('invite', () => ({
  copyLabel: 'Copy link',
  selectAll(this: any) {
    this.$refs.field.select();
  },
  async copy(this: any) {
    const link: string = this.$el.closest('[data-link]').dataset.link;
    try {
      await navigator.clipboard.writeText(link);
      this.copyLabel = 'Copied';
    } catch {
      this.$refs.field.select();
      this.copyLabel = 'Press Ctrl+C';
    }
    setTimeout(() => (this.copyLabel = 'Copy link'), 2000);
  },
}));

Alpine.start();

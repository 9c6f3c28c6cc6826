import { expect, test } from '@playwright/test';

test('the worker answers', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto('/');
  await expect(page.getByText(/nodes: 9/)).toBeVisible();
  await page.getByRole('button', { name: 'COLO start' }).click();
  await expect(page.getByText('persistence: indexeddb')).toBeVisible();
  expect(errors).toEqual([]);
});

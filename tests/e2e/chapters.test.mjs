// The seed article's questions as the page's chapters: a contents list at the top links to each
// chapter (the model's structure, Q1–Q5, Explore, the per-epoch images, the glossary) and every
// link lands on a visible heading; Q1 counts the latent dimensions in use and its caption follows
// the batch; the glossary defines the article's vocabulary. In Japanese
// and English, with screenshots of the contents and of the glossary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { serve, launch, openReady, closeBrowser } from "./serve.mjs";

const SHOTS = "target/e2e";
mkdirSync(SHOTS, { recursive: true });
let server, browser;
before(async () => {
  server = await serve("dist");
  browser = await launch(true);
});
after(async () => {
  await closeBrowser(browser);
  await server.close();
});

for (const lang of ["ja", "en"]) {
  test(`${lang}: the contents list links to every chapter, and the glossary defines the article's words`, { timeout: 300_000 }, async () => {
    const { page, errors } = await openReady(browser, `${server.url}?lang=${lang}&engine=cpu`);
    await page.waitForSelector("#contents:not([hidden])");
    const links = await page.evaluate(() =>
      [...document.querySelectorAll("#contents a")].map((a) => {
        const target = document.getElementById(a.getAttribute("href").slice(1));
        return {
          href: a.getAttribute("href"),
          text: a.textContent.trim(),
          tag: target ? target.tagName : null,
          heading: target ? target.textContent.trim() : "",
          visible: !!target && target.getClientRects().length > 0,
        };
      }));
    assert.equal(links.length, 9, JSON.stringify(links));
    for (const l of links) {
      assert.ok(l.text.length > 0, `${l.href}: link text`);
      assert.ok(["H2", "H3"].includes(l.tag), `${l.href} lands on a heading (${l.tag})`);
      assert.ok(l.heading.length > 0 && l.visible, `${l.href}: a visible heading`);
    }
    // The five questions in order, each heading quoting the article.
    const qs = links.filter((l) => /^Q\d/.test(l.text)).map((l) => l.heading.slice(0, 2));
    assert.deepEqual(qs, ["Q1", "Q2", "Q3", "Q4", "Q5"]);
    const quote = lang === "ja" ? /「.+」/ : /“.+”/;
    for (const l of links.filter((x) => /^Q\d/.test(x.text))) assert.match(l.heading, quote, l.heading);
    // A link scrolls to its chapter.
    await page.click('#contents a[href="#q3"]');
    await page.waitForFunction(() => {
      const r = document.getElementById("q3").getBoundingClientRect();
      return r.top > -2 && r.top < window.innerHeight; // sub-pixel: the heading at the very top
    });
    // The glossary: the article's vocabulary, σ named the standard deviation.
    const terms = await page.evaluate(() => [...document.querySelectorAll("#glossary dt")].map((d) => d.textContent));
    assert.equal(terms.length, 10);
    const text = await page.textContent("#glossary");
    const words = lang === "ja"
      ? ["潜在変数", "平均 μ", "標準偏差 σ", "分散 σ²", "log σ²", "事前分布", "再構成誤差", "KLダイバージェンス", "変分下限", "生成", "復元"]
      : ["latent variable", "mean μ", "standard deviation σ", "variance σ²", "log σ²", "prior", "reconstruction error", "KL divergence", "ELBO", "generation"];
    for (const w of words) assert.ok(text.includes(w), `the glossary has ${w}`);
    assert.match(text, lang === "ja" ? /「分散ベクトル σ」は、正しくは標準偏差/ : /“variance vector σ”: σ is the standard deviation/);
    // Q1 says how many latent dimensions the shipped model uses (Var of μ_j over test images
    // > 0.01), and its caption follows the batch: 128 inputs, 20 one-dimensional normals each.
    await page.waitForFunction(() => document.getElementById("batch-active").textContent.length > 0);
    const active = await page.textContent("#batch-active");
    const k = Number((lang === "ja" ? active.match(/20 次元のうち (\d+)/) : active.match(/Active dimensions: (\d+) of 20/))[1]);
    console.log(`${lang}: ${active}`);
    assert.ok(k >= 5 && k <= 20, `active dimensions of the shipped model: ${k}`);
    const caption = await page.textContent("#t1-caption");
    assert.match(caption, lang === "ja" ? /128 個の入力からなるバッチは 128 個の正規分布/ : /a batch of 128 inputs is 128 normal distributions/);
    assert.match(caption, lang === "ja" ? /1 次元の正規分布 N\(μ_j, σ_j²\) が 20 個/ : /its 20 one-dimensional normals/);
    // Q1 draws "the average" for real: the batch's mixture in the chosen dimension, near the prior.
    const mix = await page.evaluate(() => ({ ...document.getElementById("batch-mixture").dataset }));
    assert.ok(Math.abs(Number(mix.mean)) < 1 && Number(mix.variance) > 0.3 && Number(mix.variance) < 3, JSON.stringify(mix));
    // Q2: the share of the batch's encoder outputs that would be no standard deviation if read
    // as σ itself, and σ's range.
    const neg = Number(await page.getAttribute("#q2-numbers", "data-neg-share"));
    assert.ok(neg >= 0 && neg <= 1, `negative share ${neg}`);
    assert.match(await page.textContent("#q2-numbers"), lang === "ja" ? /% が 0 以下になり/ : /% of this batch's \d+ encoder outputs would be 0 or negative/);
    // The loss explained: −log p(x | z), the negative ELBO, nats per image, reduction='mean'.
    const lossRead = await page.textContent("#loss-read");
    for (const w of ["−log p(x | z)", "ELBO", "784·ln 2 ≈ 543", "104.81", "reduction='mean'", "β = 784"]) assert.ok(lossRead.includes(w), `the loss explained: ${w}`);
    // The history names the seed's images as generation and reconstruction.
    assert.match(await page.textContent("#history"), lang === "ja" ? /sampled-E\.png は生成.*reconst-E\.png は復元/s : /sampled-E\.png — generation.*reconst-E\.png — reconstruction/s);
    // Explore's panels are lettered (no number shared with the questions).
    const explore = await page.evaluate(() => [...document.querySelectorAll("#explore h3")].map((h) => h.textContent.trim()[0]));
    assert.deepEqual(explore, ["A", "B", "C", "D", "E"]);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${SHOTS}/contents-${lang}-1280x800.png` });
    await page.locator("#glossary").screenshot({ path: `${SHOTS}/glossary-${lang}.png` });
    assert.deepEqual(errors, []);
    await page.close();
  });
}

// A short help page: how an auction works, each sport's scoring, what each setting does.
import { formatMoney } from '../lib/format';
import { NUMBER_SETTINGS } from '../lib/settings';

export default function Help() {
  return (
    <div class="page narrow prose">
      <h1>How Gavel works</h1>
      <p class="muted">A live auction with friends: everyone has the same budget, and every team or player goes to whoever bids the most before the clock runs out.</p>

      <h2>Before the auction</h2>
      <ol>
        <li>
          <strong>Create a league</strong> and choose the sport and competition. You become its commissioner (and you bid too).
        </li>
        <li>
          <strong>Send the invite link</strong> to the people who will bid. Send the <strong>watch link</strong> to anyone who only wants to follow along, or to the pub TV.
        </li>
        <li>
          <strong>Pick what is auctioned</strong>: the whole competition, or a selection you choose and order.
        </li>
        <li>
          <strong>Create the auction room.</strong> Everyone can gather in the lobby; bidding starts when the commissioner presses <em>Begin</em>.
        </li>
      </ol>

      <h2>During the auction</h2>
      <ul>
        <li>One lot at a time comes up with a clock. Bid the next minimum with one tap, or type any amount like “12.5m”.</li>
        <li>The highest bid when the clock hits zero wins. A late bid in the last seconds resets the clock (anti-snipe), so nobody wins by a last-millisecond snipe.</li>
        <li>
          You can never bid more than your <strong>max bid</strong>: your budget minus the opening bid kept back for each other empty slot. That way you can always fill your roster.
        </li>
        <li>Unsold lots come back up at the end, as the settings say.</li>
        <li>
          The commissioner can pause, close a lot early, undo the last sale and <strong>End auction</strong>. Ending keeps every roster as it is. <strong>Delete league</strong> is different: it removes the
          league and everything in it.
        </li>
        <li>If your phone locks or you switch apps, Gavel reconnects and catches up the moment you come back. Your bids are never placed twice.</li>
      </ul>

      <h2>Scoring after the auction</h2>
      <p>The season pages (fixtures and the league table) are coming after the auction. The rules they use:</p>
      <h3>Football</h3>
      <p>Each club or national team you own earns, per finished match: win 3 points, draw 1, loss 0, plus 1 per goal scored. The commissioner can change these four numbers.</p>
      <h3>Cricket</h3>
      <p>
        Each player you own earns, per match: 1 point per run, 20 per wicket, 10 per catch, 25 per stumping, 20 per run-out. Optional bonuses for a half-century, a century and a five-wicket haul.
      </p>

      <h2 id="settings">What each setting does</h2>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Settings and their ranges">
        <table>
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">What it does</th>
              <th scope="col">Default</th>
              <th scope="col">Range</th>
            </tr>
          </thead>
          <tbody>
            {NUMBER_SETTINGS.map((s) => (
              <tr key={s.key}>
                <td>{s.label}</td>
                <td>{s.help}</td>
                <td class="tabular">{s.money ? formatMoney(s.def, 'GBP') : `${s.def}${s.unit ?? ''}`}</td>
                <td class="tabular">{s.money ? 'any amount' : `${s.min}–${s.max}${s.unit ?? ''}`}</td>
              </tr>
            ))}
            <tr>
              <td>Order of lots</td>
              <td>Random (shuffled once when the auction is created) or in the order the commissioner sets.</td>
              <td>Random</td>
              <td>—</td>
            </tr>
            <tr>
              <td>Currency</td>
              <td>Only how amounts are shown (£500m). No real money is involved.</td>
              <td>£</td>
              <td>—</td>
            </tr>
          </tbody>
        </table>
      </div>

      <h2>Signing in</h2>
      <p>Gavel has no passwords. We e-mail you a link and a short code. If your mail app opens the link in a different browser, type the code into the page that asked for it instead.</p>
    </div>
  );
}

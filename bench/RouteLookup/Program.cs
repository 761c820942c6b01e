using System.Diagnostics;
using System.Globalization;
using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;

// Route look-up cost against table size: 10 vs 1,000 vs 100,000 routes (exact, domain and
// wildcard senders, some recipient-restricted). Run: dotnet run -c Release --project bench/RouteLookup [-- LOOKUPS]
// (LOOKUPS per size, default 2,000,000; 200000 for a smoke run). The look-ups of each size run in
// 5 rounds interleaved with the other sizes; ns is the fastest round's, in the thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID: on a shared machine wall time also counts the time other processes
// held the core; the wall-clock figure is printed too), bytes are over all rounds. Ends with
// BENCHROW lines (bench/README.md).
const int Rounds = 5;
var lookups = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2_000_000;
var perRound = Math.Max(lookups / Rounds, 1);
var command = "dotnet run -c Release --project bench/RouteLookup" + (args.Length > 0 ? " -- " + args[0] : string.Empty);
int[] sizes = [10, 1_000, 100_000];
var cases = new List<(int Size, RouteResolver Resolver, EnvelopeAddress[] Senders, long BuildMs)>();
foreach (var size in sizes)
{
    var routes = Enumerable.Range(0, size).Select(i => new Route(
        $"ns/r{i}", i % 3, DateTimeOffset.UnixEpoch.AddSeconds(i),
        [AddressPattern.Parse((i % 3) switch { 0 => $"d{i}.example", 1 => $"*.d{i}.example", _ => $"u@d{i}.example" })],
        i % 5 == 0 ? [AddressPattern.Parse($"r{i}.example", false)] : [],
        RouteAction.Direct, null, null)).ToList();
    var build = Stopwatch.StartNew();
    var resolver = new RouteResolver(new RouteIndex(new RoutingTable(routes)), DefaultAction.Direct);
    build.Stop();
    var senders = Enumerable.Range(0, 1024).Select(i => EnvelopeAddress.Parse($"u@mail.d{i * 7919 % size}.example")).ToArray();
    cases.Add((size, resolver, senders, build.ElapsedMilliseconds));
}

var recipient = EnvelopeAddress.Parse("bob@gmail.example");
var hits = 0L;
for (var i = 0; i < 50; i++)
{
    foreach (var c in cases)
    {
        hits += Run(c.Resolver, c.Senders, 10_000); // warm-up: let the JIT's tiering settle
    }
}

Thread.Sleep(500);

var best = sizes.ToDictionary(s => s, _ => double.MaxValue);
var bestWall = sizes.ToDictionary(s => s, _ => double.MaxValue);
var allocated = sizes.ToDictionary(s => s, _ => 0L);
for (var round = -1; round < Rounds; round++)
{
    foreach (var c in cases)
    {

        var before = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        var cpuStart = ThreadCpu.Nanoseconds();
        hits += Run(c.Resolver, c.Senders, perRound);
        var cpu = ThreadCpu.Nanoseconds() - cpuStart;
        var elapsed = Stopwatch.GetElapsedTime(start);
        if (round >= 0) // round -1 warms the measuring loop itself
        {
            allocated[c.Size] += GC.GetAllocatedBytesForCurrentThread() - before;
            best[c.Size] = Math.Min(best[c.Size], cpu / (double)perRound);
            bestWall[c.Size] = Math.Min(bestWall[c.Size], elapsed.TotalNanoseconds / perRound);
        }
    }
}

foreach (var c in cases)
{
    Console.WriteLine($"{c.Size,7} routes: index built in {c.BuildMs,5} ms; {best[c.Size],7:F0} ns/lookup CPU ({bestWall[c.Size]:F0} wall), {allocated[c.Size] / (double)(perRound * Rounds),5:F0} B allocated/lookup ({allocated[c.Size]} B in {perRound * Rounds} look-ups)");
}

Console.WriteLine($"(hits {hits})");

// The inputs of a decision: the relay parses each envelope address (EnvelopeAddress.Parse) before it resolves.
var texts = Enumerable.Range(0, 1024).Select(i => $"User{i}@Mail.D{i}.Example").ToArray();
var parsed = 0L;
for (var i = 0; i < 100_000; i++)
{
    parsed += EnvelopeAddress.Parse(texts[i & 1023]).Domain.Length;
}

var parses = Math.Max(lookups / 4, 1);
var parseAllocated = GC.GetAllocatedBytesForCurrentThread();
var parseStart = ThreadCpu.Nanoseconds();
for (var i = 0; i < parses; i++)
{
    parsed += EnvelopeAddress.Parse(texts[i & 1023]).Domain.Length;
}

var parseNs = (ThreadCpu.Nanoseconds() - parseStart) / (double)parses;
var parseBytes = (GC.GetAllocatedBytesForCurrentThread() - parseAllocated) / (double)parses;
Console.WriteLine($"EnvelopeAddress.Parse: {parseNs:F0} ns, {parseBytes:F0} B allocated per address (checksum {parsed})");

var ratio = best[100_000] / best[10];
Console.WriteLine(Row(10));
Console.WriteLine(Row(100_000));
Console.WriteLine($"BENCHROW | B6 | route look-up ns (thread CPU time), 100,000 routes ÷ 10 routes (fastest of {Rounds} interleaved rounds each) | {ratio.ToString("F2", CultureInfo.InvariantCulture)} ({F(best[100_000])} ÷ {F(best[10])} ns) | ≤ 2.0 | {Met(ratio <= 2.0)} | {command} |");
Console.WriteLine($"BENCHROW | B6 | parsing one envelope address before a look-up (EnvelopeAddress.Parse, the relay's input): ns and bytes | {F(parseNs)} ns, {F(parseBytes)} B | n.a. (reported) | n.a. | {command} |");

string Row(int size)
{
    var total = allocated[size];
    var count = perRound * Rounds;
    // Met when under 0.01 B per look-up: any allocation per look-up is at least 24 B; the tiered JIT
    // allocates a few bytes once while it replaces code (0 with DOTNET_TieredCompilation=0).
    var perLookup = total / (double)count;
    return $"BENCHROW | B6 | route look-up, {size.ToString("N0", CultureInfo.InvariantCulture)} routes: ns (thread CPU time) and bytes allocated per look-up | {F(best[size])} ns ({F(bestWall[size])} ns wall), {perLookup.ToString("0.#####", CultureInfo.InvariantCulture)} B ({total} B in {count} look-ups) | 0 B per look-up | {Met(perLookup < 0.01)} | {command} |";
}

static string Met(bool met) => met ? "yes" : "no";

static string F(double value) => value.ToString("F0", CultureInfo.InvariantCulture);

int Run(RouteResolver resolver, EnvelopeAddress[] senders, int count)
{
    var found = 0;
    for (var i = 0; i < count; i++)
    {
        found += resolver.Resolve(senders[i & 1023], recipient).Winner is null ? 0 : 1;
    }

    return found;
}

/// <summary>The calling thread's CPU time (Linux clock_gettime(CLOCK_THREAD_CPUTIME_ID)).</summary>
internal static class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    public static long Nanoseconds()
    {
        _ = ClockGetTime(ClockThreadCpuTimeId, out var time);
        return (time.Seconds * 1_000_000_000L) + time.Nanoseconds;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

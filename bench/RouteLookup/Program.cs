using System.Diagnostics;
using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;

// Route look-up cost against table size: 10 vs 1,000 vs 100,000 routes (exact, domain and
// wildcard senders, some recipient-restricted). Run: dotnet run -c Release --project bench/RouteLookup
const int Lookups = 2_000_000;
foreach (var size in new[] { 10, 1_000, 100_000 })
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
    var recipient = EnvelopeAddress.Parse("bob@gmail.example");
    var hits = 0;
    for (var i = 0; i < 100_000; i++)
    {
        hits += resolver.Resolve(senders[i & 1023], recipient).Winner is null ? 0 : 1; // warm-up
    }

    var allocated = GC.GetAllocatedBytesForCurrentThread();
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < Lookups; i++)
    {
        hits += resolver.Resolve(senders[i & 1023], recipient).Winner is null ? 0 : 1;
    }

    watch.Stop();
    var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)Lookups;
    Console.WriteLine($"{size,7} routes: index built in {build.ElapsedMilliseconds,5} ms; {watch.Elapsed.TotalNanoseconds / Lookups,7:F0} ns/lookup, {bytes,5:F0} B allocated/lookup (hits {hits})");
}

using System.Collections;
using System.Diagnostics;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>
/// The one wait-until loop of the tests: polls an observation until it satisfies a condition, and
/// on timeout fails with what was awaited, the last value observed (or the last exception) and context
/// such as a peer's log.
/// </summary>
public static class Eventually
{
    /// <summary>How long a wait lasts unless a test says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Observes until <paramref name="done"/> holds and returns that observation. Exceptions from
    /// <paramref name="observe"/> count as "not yet". <paramref name="abandon"/> (e.g. "the process
    /// exited") ends the wait at once with the same failure message.
    /// </summary>
    public static async Task<T> UntilAsync<T>(
        string what,
        Func<Task<T>> observe,
        Func<T, bool> done,
        TimeSpan? timeout = null,
        Func<string>? context = null,
        Func<bool>? abandon = null)
    {
        var watch = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        string last = "(nothing observed yet)";
        while (true)
        {
            try
            {
                var value = await observe();
                if (done(value))
                {
                    return value;
                }

                last = Describe(value);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                last = $"{e.GetType().Name}: {e.Message}";
            }

            var abandoned = abandon?.Invoke() == true;
            if (abandoned || watch.Elapsed > limit)
            {
                var why = abandoned ? "gave up" : $"timed out after {limit.TotalSeconds:0.#} s";
                var extra = context is null ? string.Empty : "\n" + context();
                throw new Xunit.Sdk.XunitException($"{why} waiting for {what}; last observed: {last}{extra}");
            }

            await Task.Delay(Interval);
        }
    }

    /// <summary>Synchronous observation.</summary>
    public static Task<T> UntilAsync<T>(string what, Func<T> observe, Func<T, bool> done, TimeSpan? timeout = null, Func<string>? context = null, Func<bool>? abandon = null) =>
        UntilAsync(what, () => Task.FromResult(observe()), done, timeout, context, abandon);

    /// <summary>Waits until <paramref name="condition"/> is true.</summary>
    public static Task TrueAsync(string what, Func<bool> condition, TimeSpan? timeout = null, Func<string>? context = null) =>
        UntilAsync(what, condition, v => v, timeout, context);

    /// <summary>Waits until the asynchronous <paramref name="condition"/> is true.</summary>
    public static Task TrueAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null, Func<string>? context = null) =>
        UntilAsync(what, condition, v => v, timeout, context);

    private static string Describe(object? value)
    {
        var text = value switch
        {
            null => "null",
            string s => s,
            IEnumerable items => $"[{string.Join(", ", items.Cast<object?>().Take(20).Select(i => i?.ToString()))}]",
            _ when value.ToString() is { } t && t != value.GetType().ToString() => t,
            _ => k8s.KubernetesJson.Serialize(value), // objects without a ToString of their own, such as API objects
        };
        return text.Length > 2000 ? text[..2000] + "…" : text;
    }
}

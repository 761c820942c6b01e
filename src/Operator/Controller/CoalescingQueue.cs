using System.Threading.Channels;

namespace MailRelay.Operator.Controller;

/// <summary>
/// The work queue of a level-triggered controller with one key ("the whole desired state"):
/// any number of events while a reconcile runs or waits coalesce into one more reconcile.
/// </summary>
public sealed class CoalescingQueue
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly TimeProvider _time;

    public CoalescingQueue(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Asks for a reconcile (coalesced with any pending one).</summary>
    public void Add() => _channel.Writer.TryWrite(true);

    /// <summary>Asks for a reconcile after <paramref name="delay"/>.</summary>
    public void AddAfter(TimeSpan delay, CancellationToken ct) =>
        _ = Task.Delay(delay, _time, ct).ContinueWith(t => { if (!t.IsCanceled) { Add(); } }, TaskScheduler.Default);

    /// <summary>True when a reconcile has been asked for and not yet taken.</summary>
    public bool Pending => _channel.Reader.Count > 0;

    /// <summary>Waits for the next reconcile request.</summary>
    public async Task WaitAsync(CancellationToken ct) => await _channel.Reader.ReadAsync(ct);
}

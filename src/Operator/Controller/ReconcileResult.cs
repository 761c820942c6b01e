namespace MailRelay.Operator.Controller;

/// <summary>What a reconcile asks for next: nothing, or another run after a delay.</summary>
public sealed record ReconcileResult(TimeSpan? RequeueAfter)
{
    /// <summary>Done until the next event or resync.</summary>
    public static ReconcileResult Done { get; } = new((TimeSpan?)null);

    /// <summary>Stopped early for newer routes: reconcile again at once.</summary>
    public static ReconcileResult Superseded { get; } = new(TimeSpan.Zero);

    /// <summary>Run again after <paramref name="delay"/>.</summary>
    public static ReconcileResult Requeue(TimeSpan delay) => new(delay);
}

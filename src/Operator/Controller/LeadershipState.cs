namespace MailRelay.Operator.Controller;

/// <summary>Whether this instance leads; <c>mailrelay_operator_leader</c> reports it.</summary>
public sealed class LeadershipState
{
    private volatile bool _leading;

    /// <summary>True while this instance leads (always, without leader election).</summary>
    public bool IsLeader => _leading;

    /// <summary>Records a gain or loss of leadership.</summary>
    public void Set(bool leading)
    {
        _leading = leading;
        OperatorMetrics.Leader.Set(leading ? 1 : 0);
    }
}

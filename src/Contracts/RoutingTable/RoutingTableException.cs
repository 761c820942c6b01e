namespace MailRelay.Contracts.RoutingTable;

/// <summary>A routing table that does not parse or validate; <see cref="Errors"/> lists every problem found.</summary>
public sealed class RoutingTableException(IReadOnlyList<string> errors)
    : Exception("invalid routing table: " + string.Join("; ", errors))
{
    /// <summary>Every problem found, each prefixed with where it is.</summary>
    public IReadOnlyList<string> Errors { get; } = errors;
}

using System.Net;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace MailRelay.Operator.Controller;

/// <summary>What applying an <see cref="OwnedObject{T}"/> did.</summary>
public enum Applied
{
    /// <summary>It does not exist and is not the operator's to create.</summary>
    NotFound,

    /// <summary>It already said what was wanted: no write.</summary>
    Unchanged,

    Created,

    Updated,
}

/// <summary>
/// The one path by which the reconciler writes: read, compare, create or update only when
/// different. Every write is counted in <c>mailrelay_operator_writes_total</c> and logged.
/// </summary>
public sealed class WriteIfChanged(ILogger logger)
{
    /// <summary>Reads <paramref name="target"/> and writes it when it differs from what is wanted.</summary>
    public async Task<Applied> ApplyAsync<T>(OwnedObject<T> target, CancellationToken ct)
        where T : class
    {
        var existing = await ReadOrNullAsync(target, ct);
        if (existing is null)
        {
            if (target.Create is null)
            {
                return Applied.NotFound;
            }

            await target.Create(ct);
            Wrote(target.Kind, target.Created);
            return Applied.Created;
        }

        if (target.IsCurrent(existing))
        {
            return Applied.Unchanged;
        }

        await target.Update(existing, ct);
        Wrote(target.Kind, target.Updated);
        return Applied.Updated;
    }

    /// <summary>Counts and logs a write made outside <see cref="ApplyAsync{T}"/> (statuses, Events).</summary>
    public void Wrote(string kind, string what)
    {
        OperatorMetrics.Writes.WithLabels(kind).Inc();
        logger.LogInformation("{What}", what);
    }

    private static async Task<T?> ReadOrNullAsync<T>(OwnedObject<T> target, CancellationToken ct)
        where T : class
    {
        try
        {
            return await target.Read(ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}

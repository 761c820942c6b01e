using k8s.Models;
using MailRelay.Operator.DesiredState;

namespace MailRelay.Operator.Controller;

/// <summary>metav1.Condition handling: lastTransitionTime changes only when the status flips.</summary>
public static class Conditions
{
    /// <summary>The condition to write, its transition time carried over from <paramref name="existing"/> when the status is unchanged.</summary>
    public static V1Condition Make(IEnumerable<V1Condition>? existing, DesiredCondition wanted, long generation, DateTime now)
    {
        var previous = Find(existing, wanted.Type);
        return new V1Condition
        {
            Type = wanted.Type,
            Status = wanted.Status,
            Reason = wanted.Reason,
            Message = wanted.Message,
            ObservedGeneration = generation,
            LastTransitionTime = previous is not null && previous.Status == wanted.Status ? previous.LastTransitionTime : now,
        };
    }

    /// <summary>True when two condition lists say the same (transition times included).</summary>
    public static bool Same(IReadOnlyList<V1Condition>? a, IReadOnlyList<V1Condition>? b)
    {
        if ((a?.Count ?? 0) != (b?.Count ?? 0))
        {
            return false;
        }

        for (var i = 0; i < (a?.Count ?? 0); i++)
        {
            var x = a![i];
            var y = Find(b, x.Type);
            if (y is null || x.Status != y.Status || x.Reason != y.Reason || x.Message != y.Message
                || x.ObservedGeneration != y.ObservedGeneration || Trunc(x.LastTransitionTime) != Trunc(y.LastTransitionTime))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The condition of a type, or null.</summary>
    public static V1Condition? Find(IEnumerable<V1Condition>? conditions, string type) => conditions?.FirstOrDefault(c => c.Type == type);

    // The API server stores times with second precision.
    private static DateTime? Trunc(DateTime? t) => t is { } v ? new DateTime(v.Ticks - (v.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc) : null;
}

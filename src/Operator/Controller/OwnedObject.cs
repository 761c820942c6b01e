namespace MailRelay.Operator.Controller;

/// <summary>
/// An object (or the part of one) the reconciler keeps as wanted: how to read it, whether it
/// already says what is wanted, and how to create or update it. Applied by <see cref="WriteIfChanged"/>.
/// </summary>
/// <param name="Kind">The <c>kind</c> label of <c>mailrelay_operator_writes_total</c>.</param>
/// <param name="Read">Reads the object; null or HTTP 404 means it does not exist.</param>
/// <param name="IsCurrent">True when the existing object already says what is wanted.</param>
/// <param name="Create">Creates it when it does not exist; null when the operator does not create it.</param>
/// <param name="Update">Writes what is wanted onto the existing object.</param>
/// <param name="Created">The log line of a create.</param>
/// <param name="Updated">The log line of an update.</param>
/// <typeparam name="T">The type read.</typeparam>
public sealed record OwnedObject<T>(
    string Kind,
    Func<CancellationToken, Task<T?>> Read,
    Func<T, bool> IsCurrent,
    Func<CancellationToken, Task>? Create,
    Func<T, CancellationToken, Task> Update,
    string Created,
    string Updated)
    where T : class;

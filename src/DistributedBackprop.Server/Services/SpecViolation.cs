namespace DistributedBackprop.Server.Services;

/// <summary>One problem with a StartRun request.</summary>
/// <param name="Field">The request field's path in proto names, e.g. <c>spec.optimizer.learning_rate</c>.</param>
/// <param name="Description">What is wrong and what is allowed.</param>
internal sealed record SpecViolation(string Field, string Description);

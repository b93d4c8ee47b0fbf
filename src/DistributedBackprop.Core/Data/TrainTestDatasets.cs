namespace DistributedBackprop.Core.Data;

/// <summary>The two splits of a dataset, with the same sample shape and class count.</summary>
/// <param name="Source">The directory both were read from.</param>
public sealed record TrainTestDatasets(Dataset Train, Dataset Test, string Source);

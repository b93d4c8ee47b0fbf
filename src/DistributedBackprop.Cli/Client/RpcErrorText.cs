using Google.Rpc;
using Grpc.Core;

namespace DistributedBackprop.Cli.Client;

/// <summary>An RPC failure as one readable sentence, with the field violations of an invalid spec.</summary>
internal static class RpcErrorText
{
    public static string Describe(RpcException exception, Uri server)
    {
        if (exception.StatusCode == StatusCode.Unavailable)
        {
            return $"Cannot reach the server at {server} ({exception.Status.Detail}). Start one with `dbp serve`, "
                + "or leave out --server to train on an embedded cluster.";
        }

        var badRequest = exception.GetRpcStatus()?.GetDetail<BadRequest>();
        if (badRequest is null || badRequest.FieldViolations.Count == 0)
        {
            return $"{exception.StatusCode}: {exception.Status.Detail}";
        }

        return "Invalid run spec, nothing was started: "
            + string.Join("; ", badRequest.FieldViolations.Select(v => $"{v.Field}: {v.Description}"));
    }
}

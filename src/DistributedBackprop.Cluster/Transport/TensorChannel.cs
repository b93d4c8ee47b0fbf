using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using DistributedBackprop.Cluster.Messages;
using DistributedBackprop.Core.Reduction;
using Microsoft.Extensions.Logging;

namespace DistributedBackprop.Cluster.Transport;

/// <summary>
/// A silo's side channel for the big tensors of a step: gradient pushes from a reducer to a shard on another
/// silo, and parameter fetches back. Control stays on Orleans; only these payloads go over plain TCP, where
/// they cost one kernel copy each way instead of Orleans' serializer and message pipeline. The channel listens
/// on <see cref="Endpoint"/>, hands each request to the shards of its silo (<see cref="IShardBridge"/>: the
/// shard's mailbox, or its own local grain call) and keeps one persistent outgoing connection per remote silo,
/// opened on first use and reopened after a failure. Wire format: <see cref="TensorFrameHeader"/>. Thread-safe:
/// one instance per silo.
/// </summary>
public sealed partial class TensorChannel : IAsyncDisposable
{
    private readonly TrainingSiloOptions _options;
    private readonly IShardBridge _bridge;
    private readonly ILogger<TensorChannel> _logger;
    private readonly ConcurrentDictionary<string, Task<TensorClientConnection>> _connections = new();
    private readonly ConcurrentDictionary<TensorServerConnection, bool> _incoming = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;

    public TensorChannel(TrainingSiloOptions options, IShardBridge bridge, ILogger<TensorChannel> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options;
        _bridge = bridge;
        _logger = logger;
    }

    /// <summary>Where other silos reach this one (<c>address:port</c>); null until started, and always when
    /// the channel is disabled (<see cref="TrainingSiloOptions.TensorChannel"/>).</summary>
    public string? Endpoint { get; private set; }

    /// <summary>False when <see cref="TrainingSiloOptions.TensorChannel"/> is off: reducers then send
    /// everything through Orleans.</summary>
    public bool IsEnabled => _options.TensorChannel;

    public TensorChannelCounters Counters { get; } = new();

    /// <summary>Starts listening on <paramref name="address"/> (the silo's advertised address) and
    /// <see cref="TrainingSiloOptions.TensorPort"/>; does nothing when the channel is disabled.</summary>
    public Task StartAsync(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!IsEnabled || _listener is not null)
        {
            return Task.CompletedTask;
        }

        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(address, _options.TensorPort));
            listener.Listen(64);
        }
        catch (SocketException exception)
        {
            listener.Dispose();
            throw new InvalidOperationException(
                $"The tensor channel cannot listen on {address}:{_options.TensorPort} ({exception.Message}); set the "
                + "silo's tensor port (Cluster:TensorPort) to a free port, or 0 for any.", exception);
        }

        _listener = listener;
        var bound = (IPEndPoint)listener.LocalEndPoint!;
        Endpoint = bound.ToString();
        SocketStreams.StartThread("tensor channel listener " + Endpoint, () => Accept(listener));
        LogListening(_logger, Endpoint);
        return Task.CompletedTask;
    }

    /// <summary>Stops listening and closes every connection; waiting requests fail.</summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        _listener?.Dispose();
        foreach (var incoming in _incoming.Keys)
        {
            incoming.Close();
        }

        foreach (var connection in _connections.Values)
        {
            if (connection.IsCompletedSuccessfully)
            {
                connection.Result.Dispose();
            }
        }

        _connections.Clear();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>
    /// Sends one silo's nodes for a shard and completes once the shard (on the silo at
    /// <paramref name="endpoint"/>) has stored them. The payloads may be views (e.g. of a reducer's node sums):
    /// they are written to the socket before the task completes and not kept, so the caller may reuse them then.
    /// The result is the <see cref="System.Diagnostics.Stopwatch"/> timestamp at which this silo read the
    /// acknowledgement: the transfer's end, before the caller resumes on its own scheduler.
    /// </summary>
    /// <exception cref="TensorTransferException">The silo cannot be reached, the connection failed, no reply
    /// came within <see cref="TrainingSiloOptions.TensorTimeout"/>, or the shard's call threw.</exception>
    public async Task<long> PushAsync(string endpoint, string runId, int shardIndex, int shardCount, TensorPush push)
    {
        ArgumentNullException.ThrowIfNull(push);
        var header = new TensorFrameHeader(
            TensorFrameKind.PushRequest,
            0,
            runId,
            shardIndex,
            shardCount,
            push.GlobalStep,
            push.Nodes,
            push.PayloadLength,
            push.LossesFinite);
        var connection = await ConnectionAsync(endpoint);
        return await connection.PushAsync(header, push, _options.TensorTimeout);
    }

    /// <summary>Reads a shard's slice at <paramref name="version"/> from the silo at
    /// <paramref name="endpoint"/> straight into <paramref name="destination"/> (exactly the slice's bytes). The
    /// result is the <see cref="System.Diagnostics.Stopwatch"/> timestamp at which the last byte was read.</summary>
    /// <exception cref="TensorTransferException">As for <see cref="PushAsync"/>, or the slice's length differs
    /// from the destination's.</exception>
    public async Task<long> FetchAsync(
        string endpoint,
        string runId,
        int shardIndex,
        int shardCount,
        long version,
        Memory<byte> destination)
    {
        var header = new TensorFrameHeader(
            TensorFrameKind.FetchRequest, 0, runId, shardIndex, shardCount, version, [], 0);
        var connection = await ConnectionAsync(endpoint);
        return await connection.FetchAsync(header, destination, _options.TensorTimeout);
    }

    // One connection per endpoint; a faulted or failed one is replaced by the next caller.
    private async Task<TensorClientConnection> ConnectionAsync(string endpoint)
    {
        if (!IsEnabled)
        {
            throw new InvalidOperationException("The tensor channel is disabled on this silo.");
        }

        while (true)
        {
            var connecting = _connections.GetOrAdd(endpoint, Connect);
            try
            {
                var connection = await connecting;
                if (!connection.IsFaulted)
                {
                    return connection;
                }
            }
            catch (TensorTransferException)
            {
                _connections.TryRemove(KeyValuePair.Create(endpoint, connecting));
                throw;
            }

            if (_connections.TryRemove(KeyValuePair.Create(endpoint, connecting)))
            {
                LogReconnecting(_logger, endpoint);
            }
        }
    }

    private Task<TensorClientConnection> Connect(string endpoint) => TensorClientConnection.ConnectAsync(
        endpoint, Counters, _options.TensorMaxPayloadBytes, _options.TensorTimeout);

    // A thread of its own, blocking in Accept, for the reason SocketStreams gives; closing the listener ends it.
    private void Accept(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = listener.Accept();
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException exception)
            {
                // E.g. out of file descriptors: keep serving the connections there are and try again shortly.
                LogAcceptFailed(_logger, exception.Message);
                Thread.Sleep(100);
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            SocketStreams.Tune(socket, _options.TensorTimeout);
            var connection = new TensorServerConnection(
                socket,
                _bridge,
                Counters,
                _options.TensorMaxPayloadBytes,
                _logger,
                ended => _incoming.TryRemove(ended, out _));
            _incoming[connection] = true;
            connection.Start();
        }
    }

    [LoggerMessage(23, LogLevel.Information, "Tensor channel listening on {Endpoint}")]
    private static partial void LogListening(ILogger logger, string endpoint);

    [LoggerMessage(24, LogLevel.Warning, "Tensor channel: the connection to {Endpoint} failed; reconnecting")]
    private static partial void LogReconnecting(ILogger logger, string endpoint);

    [LoggerMessage(25, LogLevel.Error, "Tensor channel: accepting a connection failed: {Reason}")]
    private static partial void LogAcceptFailed(ILogger logger, string reason);
}

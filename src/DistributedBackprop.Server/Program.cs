using DistributedBackprop.Server.Hosting;
using Microsoft.Extensions.Hosting;

// The standalone server (also what `dbp serve` runs): configuration from appsettings.json, then environment
// variables (Server__GrpcPort=..., Cluster__SiloPort=...), then command-line arguments (--Server:GrpcPort=...).
var app = ServerHost.Build(ServerHost.CreateBuilder(args));
await ServerHost.StartAsync(app);
await app.WaitForShutdownAsync();

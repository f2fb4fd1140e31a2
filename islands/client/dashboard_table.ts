// Browser entry of the dashboard_table island (built by `deno task build` into static/build/).
import { mount } from "../hydrate.ts";
import DashboardTable from "../dashboard_table.tsx";

mount("dashboard_table", DashboardTable);
